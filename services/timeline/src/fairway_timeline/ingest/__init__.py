"""The consumer: upstream events become activities, crm.identity events say whose they are."""
