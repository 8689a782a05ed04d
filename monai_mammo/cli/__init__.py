"""The ``python -m monai_mammo`` command line (one module per subcommand)."""
