import TallyTesting

typealias SeededRandomForTests = SeededRandom
