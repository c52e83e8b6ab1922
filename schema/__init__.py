"""GraphQL adapter (strawberry): types, queries, subscriptions, context, dataloaders."""
