// What `exactly run` loads: the processor, on the topics named by EXACTLY_TOPIC_SUFFIX (empty by default).
import { bankTransfer } from './processor.js';

export default bankTransfer(process.env.EXACTLY_TOPIC_SUFFIX ?? '');
