"""The thin shell that wires Relais together: settings, database, command line."""
