"""Who can be reached: profiles (status, addresses, consent, time zone), segment memberships and send-time profiles,
built from crm.identity, crm.segmentation and crm.scoring events alone."""
