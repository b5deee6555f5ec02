// Each test worker uses KafkaJS directly; hide its one known-harmless warning there too.
import { quietKafkaJsWarnings } from '@exactly/runtime';

quietKafkaJsWarnings();
