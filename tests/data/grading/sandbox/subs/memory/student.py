def run():
    hog = bytearray(10 << 30)
    return 42 + len(hog)
