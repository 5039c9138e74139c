// tests for this area
