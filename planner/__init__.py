"""The offline plan: the real program under Pulumi's mock runtime, on any machine."""
