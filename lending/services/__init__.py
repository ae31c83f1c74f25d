"""Every write in the lending app goes through a function here (DESIGN §3.2)."""
