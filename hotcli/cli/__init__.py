"""The command-line layer: ``hot-pose`` dispatch (main) and one module per command; each parses
options, calls :mod:`hotcli.api` or the training code, and prints.
"""
