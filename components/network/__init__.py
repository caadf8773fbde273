"""The AWS network: `Network` in component.py, `VpcPeering` in peering.py; seed 003 flows in flows.py."""
