"""Hand-written fakes of the CPI's services: in-memory state, a journal of calls, programmable failures."""
