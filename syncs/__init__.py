"""The application's synchronizations, one module per feature, found here (nothing
lists them): every module of this package is imported and its syncs registered,
modules by name, syncs in the order each module defines them. The routes they answer
are declared in `app/api/routes/`."""
