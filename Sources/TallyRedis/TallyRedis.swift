/// Placeholder until the RESP client lands.
public enum TallyRedisModule {}
