print("vigilbench")
