"""A small numpy federated-learning app whose fit rounds run through secure aggregation."""
