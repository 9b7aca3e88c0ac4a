"""RON: a resilient overlay network (see __main__ for the agent, routing for path choice)."""
