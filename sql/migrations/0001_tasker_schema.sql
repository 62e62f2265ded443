-- The schema of Tasker's own tables. The tables themselves come in later migrations.
CREATE SCHEMA IF NOT EXISTS tasker;
