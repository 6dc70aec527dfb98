public enum TallyMetricsModule {}
