print("secagg")
