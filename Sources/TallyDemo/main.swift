print("tally demo")
