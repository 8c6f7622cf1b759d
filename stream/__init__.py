"""The Faust app: topics, tables, agents, HTTP views, metrics and the CLI. Only this package knows Kafka."""
