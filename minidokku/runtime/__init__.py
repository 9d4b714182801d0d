"""Running things: the scheduler interface, the local Docker scheduler, container isolation, checks."""
