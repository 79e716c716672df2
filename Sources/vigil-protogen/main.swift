print("vigil-protogen")
