"""What noxfile.py's sessions do, so that each session there is a few lines: see the modules' docstrings."""
