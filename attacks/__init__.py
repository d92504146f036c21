"""Adversarial probes: the reference-model pool, membership and attribute inference,
memorisation."""
