"""The thin shell that wires Relais together: settings, database, command line."""

import os

# Prefect stays offline whatever starts us (nothing leaves loopback) and gets time to start
# its ephemeral server on a slow machine. Explicit settings in the environment win.
for _name, _value in (("DO_NOT_TRACK", "1"), ("PREFECT_SERVER_ANALYTICS_ENABLED", "false"),
                      ("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")):
    os.environ.setdefault(_name, _value)
