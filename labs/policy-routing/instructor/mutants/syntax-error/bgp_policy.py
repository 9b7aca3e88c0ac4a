def rank(route, policy)
    return 0
