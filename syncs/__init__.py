"""The application's synchronizations, one module per theme."""
