"""GCN follow-up (SCoPe's ``gcn_cronjob.py`` workflow) as plain functions: the Fritz sources of
an event, their ZTF light curves, specific-ids features, and what the automation decides to run.
Dagster-free; the assets and the sensor in ``scope_assets.defs`` call these."""
