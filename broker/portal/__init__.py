"""Pages for pupils and parents: the school picker, logging out everywhere."""
