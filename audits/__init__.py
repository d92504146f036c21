"""Non-adversarial probes and the audit's vocabulary (subject, results, config, parallel map).

Importing this package stays cheap: heavy libraries are imported by the module that uses them.
"""
