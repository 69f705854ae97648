"""Cases: the aggregate (state, lead, deadlines, handoffs, history), its services and storage."""
