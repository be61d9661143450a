// placeholder (being split out)
