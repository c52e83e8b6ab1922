"""Users, roles, API keys, id tokens and station credentials."""
