"""The streaming layer (token module `streaming`): Kafka, Kafka Connect, Schema Registry, MirrorMaker 2."""
