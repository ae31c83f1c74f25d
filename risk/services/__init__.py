"""Every write in the risk app goes through a function here (DESIGN §3.2)."""
