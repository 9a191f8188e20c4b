"""GraphQL transport: strawberry types, inputs, payloads, resolvers and dataloaders."""
