"""Tables, migrations, engines and tenants: the only part that knows SQL."""
