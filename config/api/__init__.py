"""What every API app shares: problem details, base views and serializers, permissions,
pagination, the token login and the /api/v1/ root (docs/api.md)."""
