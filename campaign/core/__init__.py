"""The shared core: the models' base, the domain's validation rules and its errors."""
