"""The pure assessment core: ticket + context snapshot in, assessment out.

Nothing in this package opens a database session, reads the clock or touches the network.
"""
