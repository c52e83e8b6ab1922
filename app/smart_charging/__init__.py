"""Smart charging: the charging profiles installed on stations."""
