"""The web console: people with roles (viewer, operator, admin), their sessions, and the pages."""
