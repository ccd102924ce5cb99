def write_quality(out, threshold):
    return None
