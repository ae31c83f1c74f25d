"""/api/v1/collections/: cases, their contacts and promises, reassignment, queues, compliance
policies and holds. Adapters only: reads narrow to the cases the user may see
(debt_collection.access), every write is one service call (debt_collection.services)."""
