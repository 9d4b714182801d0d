"""Who may do what: key roles and app grants (rules), the ssh entry, the keys, the audit trail, and
which URLs the host fetches for a tenant."""
