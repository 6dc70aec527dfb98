import ServiceLifecycle
import TallyPipeline

/// Takes part in the leader election for the productivity score; cancelled on
/// shutdown, when it gives the lock up so another node takes over at once.
struct ScoreLeaderService: Service {
    let leader: ScoreLeader

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.leader.run()
        }
    }
}
