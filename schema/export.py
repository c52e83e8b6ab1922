"""Write the GraphQL schema to schema/schema.graphql: `python -m schema.export`."""

from schema.schema import SCHEMA_FILE, schema_sdl

if __name__ == "__main__":
    SCHEMA_FILE.write_text(schema_sdl())
    print(f"wrote {SCHEMA_FILE}")
