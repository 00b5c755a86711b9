"""Working with finished runs: find them (resolve), list, show, compare, evaluate, predict."""
