"""Toggl Track Connection: the code every Lambda function of the connection shares.

One module per concern; handlers in ``functions/`` only wire these together.
"""
