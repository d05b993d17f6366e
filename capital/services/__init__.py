"""Services: load, apply the domain's rules, persist. They flush; the caller commits."""
