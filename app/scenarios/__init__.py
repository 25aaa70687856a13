"""The scenario library: attack and benign look-alike tickets from real incidents, as product content."""
